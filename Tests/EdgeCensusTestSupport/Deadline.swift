import Synchronization

/// Waits for `body`, but fails (instead of hanging the test run) after `seconds`.
/// The body is left running if it never returns.
public func withDeadline<T: Sendable>(
    seconds: Double, _ what: String,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let once = Once()
    return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        Task {
            let result: Result<T, any Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            if once.claim() { continuation.resume(with: result) }
        }
        Task {
            try? await Task.sleep(for: .seconds(seconds))
            if once.claim() { continuation.resume(throwing: DeadlinePassed(what: what, seconds: seconds)) }
        }
    }
}

public struct DeadlinePassed: Error, CustomStringConvertible {
    public var what: String
    public var seconds: Double
    public var description: String { "\(what): not done after \(seconds) s" }
}

/// True for the first caller only.
final class Once: Sendable {
    private let done = Atomic(false)
    func claim() -> Bool { !done.exchange(true, ordering: .sequentiallyConsistent) }
}
