import Dispatch
public import EdgeCensusLogging
import Foundation
import Synchronization

/// Sends `WATCHDOG=1` every `interval` seconds, but only while `check` finds the
/// agent alive (it returns nil then, and what is wrong otherwise). When it is not, the
/// pings stop, the reason is logged once, and systemd's `WatchdogSec=` restarts the
/// service. A stopped process sends nothing at all, which has the same effect.
public final class WatchdogPinger: Sendable {
    private let notifier: SystemdNotifier
    private let interval: Double
    private let check: @Sendable () -> String?
    private let logger: AgentLogger
    private let stopped = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    public init(
        notifier: SystemdNotifier, interval: Double, check: @escaping @Sendable () -> String?,
        logger: AgentLogger
    ) {
        self.notifier = notifier
        self.interval = interval
        self.check = check
        self.logger = logger
    }

    public func start() {
        let thread = Thread { [self] in
            var withheld = false
            while !stopped.load(ordering: .sequentiallyConsistent) {
                if let problem = check() {
                    if !withheld {
                        logger.error(
                            "\(problem); the watchdog is no longer told the agent is alive, so systemd restarts it")
                    }
                    withheld = true
                } else {
                    if withheld { logger.info("the agent's loops go round again; watchdog pings resume") }
                    withheld = false
                    notifier.watchdog()
                }
                _ = wake.wait(timeout: .now() + interval)
            }
            finished.signal()
        }
        thread.name = "edgecensus-watchdog"
        thread.start()
    }

    /// Stops pinging (before a clean shutdown's last steps); returns once the thread has ended.
    public func stop() {
        guard !stopped.exchange(true, ordering: .sequentiallyConsistent) else { return }
        wake.signal()
        finished.wait()
    }
}
