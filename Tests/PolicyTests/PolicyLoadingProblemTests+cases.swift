import Testing

@testable import Policy

let duplicateCases: [ProblemCase] = [
    ProblemCase(
        name: "duplicate app key", files: Broken.app("", file: "apps/other.json"), file: "apps/other.json",
        pointer: "/key"),
    ProblemCase(
        name: "duplicate 3LO client id",
        files: Broken.oauth2("\"clientSecret\": \"s\", \"redirectUris\": [\"https://a.example/cb\"]")
            .merging([
                "apps/other.json":
                    "{\"key\": \"other\", \"oauth2\": {\"clientId\": \"demo-3lo\", \"clientSecret\": \"s\", \"redirectUris\": [\"https://b.example/cb\"]}}"
            ]) { $1 },
        file: "apps/other.json", pointer: "/oauth2/clientId"),
    ProblemCase(
        name: "duplicate consumer key",
        files: Broken.oauth1("\"publicKeyFile\": \"keys/consumer.public.pem\"")
            .merging([
                "apps/other.json":
                    "{\"key\": \"other\", \"oauth1\": {\"consumerKey\": \"demo-link\", \"publicKeyFile\": \"keys/consumer.public.pem\"}}"
            ]) { $1 },
        file: "apps/other.json", pointer: "/oauth1/consumerKey"),
    ProblemCase(
        name: "duplicate oauthClientId",
        files: Broken.app("\"oauthClientId\": \"c1\"").merging(
            Broken.app("\"oauthClientId\": \"c1\"", file: "apps/other.json", key: "other")
        ) { $1 },
        file: "apps/other.json", pointer: "/oauthClientId"),
    ProblemCase(
        name: "duplicate accountId", files: Broken.users("{\"accountId\": \"app-demo\", \"name\": \"someone\"}"),
        file: "users.json", pointer: "/users/2/accountId"),
    ProblemCase(
        name: "duplicate name, any case", files: Broken.users("{\"accountId\": \"u1\", \"name\": \"Demo-App-User\"}"),
        file: "users.json", pointer: "/users/2/name"),
    ProblemCase(
        name: "duplicate email",
        files: Broken.users("{\"accountId\": \"u2\", \"name\": \"b\", \"email\": \"Alice@Example.com\"}"),
        file: "users.json", pointer: "/users/2/email"),
]

let grantCases: [ProblemCase] = [
    ProblemCase(
        name: "grant to unknown user", files: Broken.grant("\"resource\": \"global\", \"user\": \"ghost\""),
        file: "permissions.json", pointer: "/grants/0/user"),
    ProblemCase(
        name: "grant to unknown group", files: Broken.grant("\"resource\": \"global\", \"group\": \"ghosts\""),
        file: "permissions.json", pointer: "/grants/0/group"),
    ProblemCase(
        name: "grant with two grantees",
        files: Broken.grant("\"resource\": \"global\", \"group\": \"staff\", \"anyone\": true"),
        file: "permissions.json", pointer: "/grants/0"),
    ProblemCase(
        name: "grant with no grantee", files: Broken.grant("\"resource\": \"global\""), file: "permissions.json",
        pointer: "/grants/0"),
    ProblemCase(
        name: "resource without id", files: Broken.grant("\"resource\": \"project\", \"anyone\": true"),
        file: "permissions.json", pointer: "/grants/0/resource"),
    ProblemCase(
        name: "resource with empty id", files: Broken.grant("\"resource\": \"project:\", \"anyone\": true"),
        file: "permissions.json", pointer: "/grants/0/resource"),
]

let routeCases: [ProblemCase] = [
    ProblemCase(
        name: "unknown upstream",
        files: Broken.route(
            "\"methods\": [\"GET\"], \"path\": \"/a\", \"upstream\": \"nowhere\", \"scopes\": [\"READ\"]"),
        file: "routes.json", pointer: "/routes/0/upstream"),
    ProblemCase(
        name: "unknown route scope",
        files: Broken.route("\(Broken.get), \"path\": \"/a\", \"scopes\": [\"read:jira-wrok\"]"), file: "routes.json",
        pointer: "/routes/0/scopes/0"),
    ProblemCase(
        name: "rest parameter not last",
        files: Broken.route("\(Broken.get), \"path\": \"/a/{rest*}/b\", \"scopes\": [\"READ\"]"), file: "routes.json",
        pointer: "/routes/0/path"),
    ProblemCase(
        name: "parameter inside a segment",
        files: Broken.route("\(Broken.get), \"path\": \"/issue-{id}\", \"scopes\": [\"READ\"]"), file: "routes.json",
        pointer: "/routes/0/path"),
    ProblemCase(
        name: "parameter twice", files: Broken.route("\(Broken.get), \"path\": \"/{id}/{id}\", \"scopes\": [\"READ\"]"),
        file: "routes.json", pointer: "/routes/0/path"),
    ProblemCase(
        name: "path not absolute", files: Broken.route("\(Broken.get), \"path\": \"a/b\", \"scopes\": [\"READ\"]"),
        file: "routes.json", pointer: "/routes/0/path"),
    ProblemCase(
        name: "resource names a missing parameter",
        files: Broken.route(
            "\(Broken.get), \"path\": \"/p/{key}\", \"scopes\": [\"READ\"], \"permission\": \"P\", \"resource\": \"project:{projectKey}\""
        ),
        file: "routes.json", pointer: "/routes/0/resource"),
    ProblemCase(
        name: "appKeyParameter names a missing parameter",
        files: Broken.route(
            "\(Broken.get), \"path\": \"/addons/{key}\", \"scopes\": [\"READ\"], \"appKeyParameter\": \"addonKey\""),
        file: "routes.json", pointer: "/routes/0/appKeyParameter"),
    ProblemCase(
        name: "public route with appKeyParameter",
        files: Broken.route(
            "\(Broken.get), \"path\": \"/addons/{key}\", \"public\": true, \"appKeyParameter\": \"key\""),
        file: "routes.json", pointer: "/routes/0/appKeyParameter"),
    ProblemCase(
        name: "lower-case method",
        files: Broken.route(
            "\"methods\": [\"get\"], \"upstream\": \"backend\", \"path\": \"/a\", \"scopes\": [\"READ\"]"),
        file: "routes.json", pointer: "/routes/0/methods/0"),
    ProblemCase(
        name: "public route with scopes",
        files: Broken.route("\(Broken.get), \"path\": \"/a\", \"public\": true, \"scopes\": [\"READ\"]"),
        file: "routes.json", pointer: "/routes/0/scopes"),
    ProblemCase(
        name: "non-public route without scopes", files: Broken.route("\(Broken.get), \"path\": \"/a\""),
        file: "routes.json", pointer: "/routes/0/scopes"),
    ProblemCase(
        name: "upstream URL not http",
        files: Broken.route(
            "\(Broken.get), \"path\": \"/a\", \"public\": true", upstreams: "\"backend\": {\"url\": \"ftp://h\"}"),
        file: "routes.json", pointer: "/upstreams/backend/url"),
    ProblemCase(
        name: "upstream name escaped in pointer",
        files: Broken.route(
            "\(Broken.get), \"path\": \"/a\", \"public\": true",
            upstreams: "\"backend\": {\"url\": \"http://h\"}, \"a/b~c\": {\"url\": \"nope\"}"),
        file: "routes.json", pointer: "/upstreams/a~1b~0c/url"),
]

let scopeFileCases: [ProblemCase] = [
    ProblemCase(
        name: "implication cycle", files: Broken.scopes("\"a:x\": [\"b:y\"], \"b:y\": [\"a:x\"]"), file: "scopes.json",
        pointer: "/implies/b:y"),
    ProblemCase(
        name: "cycle through the built-in Connect scopes", files: Broken.scopes("\"none\": [\"ADMIN\"]"),
        file: "scopes.json", pointer: "/implies/none"),
    ProblemCase(
        name: "implication of wrong type", files: Broken.scopes("\"a:x\": \"b:y\""), file: "scopes.json",
        pointer: "/implies/a:x"),
]

@Suite("Policy problems: each is reported at its file and pointer")
struct PolicyLoadingProblemTests {
    @Test(arguments: fileCases + gatewayCases + appCases + duplicateCases + grantCases + routeCases + scopeFileCases)
    func reportsExactlyThisProblem(_ testCase: ProblemCase) throws {
        let folder = try PolicyFixtures.folder(overlay: testCase.overlay, files: testCase.files)
        let problems = PolicyFixtures.problems(folder.path, environment: testCase.environment)
        #expect(problems.map { "\($0.file) \($0.pointer)" } == ["\(testCase.file) \(testCase.pointer)"], "\(problems)")
    }

    @Test func reportsEveryProblemAtOnce() throws {
        let folder = try PolicyFixtures.folder(overlay: "many-problems")
        let found = Set(PolicyFixtures.problems(folder.path).map { "\($0.file) \($0.pointer)" })
        #expect(
            found == [
                "gateway.json /lisen", "gateway.json /clockSkewSeconds",
                "apps/demo.json /sharedSecret", "apps/demo.json /scopes/1", "apps/demo.json /appUser",
                "routes.json /upstreams/backend/url", "routes.json /routes/0/resource", "routes.json /routes/1/path",
            ])
    }

    @Test func groupsProblemsByFileInReadingOrder() throws {
        let folder = try PolicyFixtures.folder(overlay: "many-problems", files: ["gateway.json": "{}"])
        let files = PolicyFixtures.problems(folder.path).map(\.file)
        #expect(
            files == ["gateway.json"] + Array(repeating: "apps/demo.json", count: 3)
                + Array(repeating: "routes.json", count: 3))
    }

    @Test func printsFilePointerAndMessage() throws {
        let folder = try PolicyFixtures.folder(files: Broken.gateway("\"clockSkewSeconds\": [30]"))
        let problem = try #require(PolicyFixtures.problems(folder.path).first)
        #expect(problem.description == "gateway.json: /clockSkewSeconds: expected an integer, found an array")
    }

    @Test func suggestsTheKeyThatWasMeant() throws {
        let folder = try PolicyFixtures.folder(files: Broken.gateway("\"lisen\": \"127.0.0.1:1\""))
        #expect(
            PolicyFixtures.problems(folder.path).first?.message == "unknown key \"lisen\" (did you mean \"listen\"?)")
    }

    @Test func syntaxErrorsGiveLineAndColumn() throws {
        let folder = try PolicyFixtures.folder(overlay: "syntax-error")
        let message = try #require(PolicyFixtures.problems(folder.path).first?.description)
        #expect(message.hasPrefix("users.json: invalid JSON: line 4"))
    }

    @Test func aMissingFolderIsOneProblem() {
        let problems = PolicyFixtures.problems("/nonexistent/linkgate-policies")
        #expect(problems.count == 1)
    }

    @Test func routeTiesComeFromTheInjectedCheck() throws {
        let folder = try PolicyFixtures.folder()
        let tie: PolicyLoader.RouteTieCheck = { routes in
            [PolicyProblem(at: routes[0].source.appending("path"), "ties with another route")]
        }
        #expect(throws: PolicyLoadError.self) {
            try PolicyLoader.load(folder: folder.path, environment: [:], routeTies: tie)
        }
        #expect(PolicyLoader.routeTieProblems([]) == [])
    }

    @Test func pointersEscapeTildeAndSlash() {
        let location = PolicyLocation(file: "f.json").appending("a/b").appending("~c").appending(index: 2)
        #expect(location.pointer == "/a~1b/~0c/2")
    }
}
