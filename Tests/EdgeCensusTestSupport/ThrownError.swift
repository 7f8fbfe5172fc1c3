public import Testing

/// The error `body` throws, as `E`; an issue is recorded, and nil returned, when it
/// throws nothing or an error of another type. It is `let error = #expect(throws:
/// E.self) { ... }` for every toolchain we build on: `#expect(throws:)` returns the
/// error only from Swift 6.1, and Debian 13's `swiftlang` is 6.0.3.
public func thrownError<E: Error, Result>(
    _ type: E.Type, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Result
) -> E? {
    do {
        _ = try body()
        Issue.record("expected an error of type \(E.self), but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as E {
        return error
    } catch {
        Issue.record("expected an error of type \(E.self), but \(error) was thrown", sourceLocation: sourceLocation)
    }
    return nil
}

/// `thrownError` for an async body.
public func thrownError<E: Error, Result>(
    _ type: E.Type, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Result
) async -> E? {
    do {
        _ = try await body()
        Issue.record("expected an error of type \(E.self), but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as E {
        return error
    } catch {
        Issue.record("expected an error of type \(E.self), but \(error) was thrown", sourceLocation: sourceLocation)
    }
    return nil
}
