public import Testing

/// The error `body` throws, as `E`; an issue is recorded, and nil returned, when it
/// throws nothing or an error of another type. It is `let error = #expect(throws:
/// E.self) { ... }` for every toolchain we build on: `#expect(throws:)` returns the
/// error only from Swift 6.1, and Debian 13's `swiftlang` is 6.0.3.
public func thrownError<E: Error, Value>(
    _ type: E.Type, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Value
) -> E? {
    expected(E.self, from: Result { try body() }, sourceLocation)
}

/// `thrownError` for an async body.
public func thrownError<E: Error, Value>(
    _ type: E.Type, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Value
) async -> E? {
    let result: Result<Value, any Error>
    do {
        result = .success(try await body())
    } catch {
        result = .failure(error)
    }
    return expected(E.self, from: result, sourceLocation)
}

private func expected<E: Error, Value>(
    _ type: E.Type, from result: Result<Value, any Error>, _ sourceLocation: SourceLocation
) -> E? {
    switch result {
    case .failure(let error as E):
        return error
    case .failure(let error):
        Issue.record("expected an error of type \(E.self), but \(error) was thrown", sourceLocation: sourceLocation)
    case .success:
        Issue.record("expected an error of type \(E.self), but nothing was thrown", sourceLocation: sourceLocation)
    }
    return nil
}
