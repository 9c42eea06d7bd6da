import Testing
@testable import Scopes
