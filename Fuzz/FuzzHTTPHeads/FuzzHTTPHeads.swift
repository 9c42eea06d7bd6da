// The byte readers of the data plane's framing by hand (docs/testing.md, "Fuzzing";
// docs/gateway.md §3, "Request heads as bytes"): `RawRequestHead`, `RawResponseHead`
// and `ChunkedBodyScanner`, compiled into this harness (symbolic links to Sources/Gateway).
//
// The input's first byte picks where it is cut in two; the rest is read as a request
// head, as a response head and as a chunked body. Beyond "no crash": a head's parts lie
// inside it and it ends with its blank line; the bytes read in two pieces give what they
// give whole (a head, the same one, once its end has come; a chunked body's end at the
// same place with the same data), so the readers never depend on how TCP cut the bytes.
import NIOCore

func fuzzHTTPHeads(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let cut = input.isEmpty ? 0 : Int(data[0]) % (input.count + 1)
    checkRequest(input, cut: cut)
    checkResponse(input, cut: cut)
    checkChunked(input, cut: cut)
    return 0
}

/// Whether `length` bytes of `input` are a head: ending in CRLF CRLF, every range inside.
private func checkShape(_ input: [UInt8], length: Int, ranges: [Range<Int>]) {
    precondition(length >= 4 && length <= input.count, "a head longer than its input")
    precondition(Array(input[(length - 4)..<length]) == Array("\r\n\r\n".utf8), "a head not ending in its blank line")
    for range in ranges { precondition(range.lowerBound >= 0 && range.upperBound <= length, "a part outside the head") }
}

private func checkRequest(_ input: [UInt8], cut: Int) {
    let whole = RawRequestHead.scan(ByteBuffer(bytes: input))
    if case .head(let head, let length) = whole {
        checkShape(
            input, length: length, ranges: [head.method, head.target] + head.fields.flatMap { [$0.name, $0.value] })
    }
    checkPieces(Outcome(whole), Outcome(RawRequestHead.scan(ByteBuffer(bytes: input[..<cut]))), cut: cut)
}

private func checkResponse(_ input: [UInt8], cut: Int) {
    let whole = RawResponseHead.scan(ByteBuffer(bytes: input))
    if case .head(let head, let length) = whole {
        checkShape(input, length: length, ranges: head.fields.flatMap { [$0.name, $0.value] })
        precondition((100...999).contains(head.status), "a status outside three digits")
        _ = head.bodyFraming(requestWasHead: false)
    }
    checkPieces(Outcome(whole), Outcome(RawResponseHead.scan(ByteBuffer(bytes: input[..<cut]))), cut: cut)
}

/// What a scan came to, whichever kind of head.
private enum Outcome {
    case head(length: Int)
    case incomplete
    case refused

    init(_ scan: RawRequestHead.Scan) {
        switch scan {
        case .head(_, let length): self = .head(length: length)
        case .incomplete: self = .incomplete
        case .refused: self = .refused
        }
    }

    init(_ scan: RawResponseHead.Scan) {
        switch scan {
        case .head(_, let length): self = .head(length: length)
        case .incomplete: self = .incomplete
        case .refused: self = .refused
        }
    }
}

/// The first `cut` bytes give what the whole gives: a head only once its end has come, and the same one.
private func checkPieces(_ whole: Outcome, _ prefix: Outcome, cut: Int) {
    switch (whole, prefix) {
    case (.head(let length), .head(let early)): precondition(early == length && cut >= length, "a head found early")
    case (.head(let length), .incomplete): precondition(cut < length, "a whole head taken for incomplete")
    case (.head, .refused): preconditionFailure("a prefix of a head refused")
    case (.incomplete, .incomplete), (.refused, .incomplete), (.refused, .refused): break
    case (.incomplete, _): preconditionFailure("a prefix read further than the whole")
    case (.refused, .head): preconditionFailure("a prefix read as a head where the whole is refused")
    }
}

/// A chunked body read from `pieces`: where it ended (nil if not), its data, or nil if refused.
private func scanChunked(_ pieces: [ArraySlice<UInt8>]) -> (end: Int?, data: [UInt8])? {
    var scanner = ChunkedBodyScanner()
    var consumed = 0
    var data: [UInt8] = []
    for piece in pieces where !scanner.isDone {
        let bytes = Array(piece)
        do {
            let used = try bytes.withUnsafeBytes { raw in try scanner.consume(raw) { data += bytes[$0] } }
            precondition(used <= bytes.count, "the scanner used more than it was given")
            consumed += used
        } catch {
            return nil
        }
    }
    return (scanner.isDone ? consumed : nil, data)
}

private func checkChunked(_ input: [UInt8], cut: Int) {
    let whole = scanChunked([input[...]])
    let split = scanChunked([input[..<cut], input[cut...]])
    precondition((whole == nil) == (split == nil), "refused whole but not in pieces, or the other way")
    guard let whole, let split else { return }
    precondition(whole.end == split.end && whole.data == split.data, "read otherwise in two pieces")
}
