import JWT

/// An application-link consumer as the policy says now.
public struct OAuth1ConsumerKey: Sendable {
    public let appKey: String
    public let consumerKey: String
    public let key: RSASHA1Key

    public init(appKey: String, consumerKey: String, key: RSASHA1Key) {
        self.appKey = appKey
        self.consumerKey = consumerKey
        self.key = key
    }
}
