#!/usr/bin/env python3
"""Which folder of a module uses which: prints the graph and fails on a cycle.

Usage: scripts/folder-graph.py Sources/Gateway [Sources/Grants ...]

A folder uses another when one of its files names a type (struct, class, enum,
protocol, actor or typealias) declared at the top level of a file in the other.
Comments and string literals are ignored. `make lint` runs it on every module:
folders inside a module depend one way (docs/architecture.md).
"""
import os
import re
import sys

DECLARATION = re.compile(
    r"^(?:public |internal |package |fileprivate |private |final |@\w+(?:\([^)]*\))? )*"
    r"(?:struct|class|enum|protocol|actor|typealias)\s+([A-Z]\w*)", re.M)
IDENTIFIER = re.compile(r"\b[A-Z]\w*\b")


def strip(text):
    """The code without comments and string literals."""
    text = re.sub(r'"""[\s\S]*?"""', '""', text)
    text = re.sub(r'"(?:\\.|[^"\\\n])*"', '""', text)
    text = re.sub(r"/\*[\s\S]*?\*/", "", text)
    return re.sub(r"//[^\n]*", "", text)


def folder_of(root, path):
    relative = os.path.relpath(path, root)
    return relative.split(os.sep)[0] if os.sep in relative else "."


def graph(root):
    files = {}
    for directory, _, names in os.walk(root):
        for name in names:
            if name.endswith(".swift"):
                path = os.path.join(directory, name)
                with open(path, encoding="utf-8") as handle:
                    files[path] = strip(handle.read())
    owner = {}
    for path, code in files.items():
        for name in DECLARATION.findall(code):
            owner.setdefault(name, folder_of(root, path))
    edges = {}
    for path, code in files.items():
        source = folder_of(root, path)
        edges.setdefault(source, set())
        for name in set(IDENTIFIER.findall(code)):
            target = owner.get(name)
            if target and target != source:
                edges[source].add(target)
    return edges


def cycle(edges):
    state = {}

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                return trail + [node, nxt]
            if nxt not in state:
                found = visit(nxt, trail + [node])
                if found:
                    return found
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state:
            found = visit(node, [])
            if found:
                return found[found.index(found[-1]):]
    return None


def main(roots):
    failed = False
    for root in roots:
        edges = graph(root)
        print(f"{root}:")
        for node in sorted(edges):
            print(f"  {node} -> {', '.join(sorted(edges[node])) or '(nothing)'}")
        found = cycle(edges)
        if found:
            print(f"  CYCLE: {' -> '.join(found)}")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["Sources/Gateway"]))
