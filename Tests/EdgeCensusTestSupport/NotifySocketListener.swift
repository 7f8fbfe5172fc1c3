public import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What systemd does for a Type=notify service, on the test's side: a Unix datagram
/// socket whose path goes into the agent's `$NOTIFY_SOCKET`, collecting each message
/// (`READY=1\nSTATUS=…`) with the time it arrived.
public final class NotifySocketListener: Sendable {
    public let path: String
    private let descriptor: Int32
    private let received = Mutex<[(time: Date, message: String)]>([])
    private let closed = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    public init(directory: String) throws {
        path = directory + "/notify.socket"
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let name = Array(path.utf8)
        guard name.count < MemoryLayout.size(ofValue: address.sun_path) else { throw POSIXError(.ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: name) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !closed.load(ordering: .sequentiallyConsistent) {
                let count = recv(descriptor, &buffer, buffer.count, 0)
                if count > 0 {
                    let message = String(decoding: buffer[0..<count], as: UTF8.self)
                    received.withLock { $0.append((Date(), message)) }
                }
            }
            done.signal()
        }
        thread.start()
    }

    /// Every message so far, in order of arrival.
    public var messages: [(time: Date, message: String)] { received.withLock { $0 } }

    /// Waits until a message satisfying `condition` has arrived; returns it, or nil after `seconds`.
    public func wait(seconds: Double, for condition: (String) -> Bool) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let hit = messages.first(where: { condition($0.message) }) { return hit.message }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return nil
    }

    public func close() {
        guard !closed.exchange(true, ordering: .sequentiallyConsistent) else { return }
        done.wait()
        Glibc.close(descriptor)
        unlink(path)
    }

    deinit { close() }
}
