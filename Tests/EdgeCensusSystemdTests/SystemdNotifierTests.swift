import EdgeCensusSystemd
import EdgeCensusTestSupport
import Foundation
import Synchronization
import Testing

@Suite("sd_notify: readiness, status and the watchdog, as datagrams to $NOTIFY_SOCKET")
struct SystemdNotifierTests {
    @Test("outside systemd (no NOTIFY_SOCKET) every message is dropped and there is no watchdog")
    func outsideSystemd() {
        let notifier = SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000"])
        #expect(notifier.socketPath == nil)
        #expect(notifier.watchdogInterval == nil)
        #expect(!notifier.send("READY=1"))
    }

    @Test("READY, STATUS (on one line), WATCHDOG and STOPPING arrive as one datagram each, in order")
    func messages() throws {
        let directory = try TemporaryDirectory()
        let listener = try NotifySocketListener(directory: directory.path)
        defer { listener.close() }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.path])
        notifier.ready(status: "camera /dev/video0; counting")
        notifier.status("window 3:\n2 people")
        notifier.watchdog()
        notifier.stopping(status: "stopping")
        _ = listener.wait(seconds: 5) { $0.hasPrefix("STOPPING=1") }
        #expect(
            listener.messages.map(\.message) == [
                "READY=1\nSTATUS=camera /dev/video0; counting", "STATUS=window 3: 2 people", "WATCHDOG=1",
                "STOPPING=1\nSTATUS=stopping",
            ])
    }

    @Test(
        "the watchdog interval is half of WATCHDOG_USEC, and there is none when WATCHDOG_PID names another process",
        arguments: [(nil as String?, 15.0 as Double?), ("4242", 15.0), ("1", nil)])
    func watchdogInterval(pid: String?, interval: Double?) {
        var environment = ["NOTIFY_SOCKET": "/run/systemd/notify", "WATCHDOG_USEC": "30000000"]
        environment["WATCHDOG_PID"] = pid
        let notifier = SystemdNotifier(environment: environment, processID: 4242)
        #expect(notifier.watchdogInterval == interval)
        #expect(notifier.watchdogTimeout == (interval == nil ? nil : 30))
    }

    @Test(
        "the pinger sends WATCHDOG=1 while the check finds the agent alive, stops while it does not (saying why, once), and resumes"
    )
    func pinger() throws {
        let directory = try TemporaryDirectory()
        let listener = try NotifySocketListener(directory: directory.path)
        defer { listener.close() }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.path])
        let problem = Mutex<String?>(nil)
        let logged = Mutex<[String]>([])
        let pinger = WatchdogPinger(
            notifier: notifier, interval: 0.05, check: { problem.withLock { $0 } },
            logger: recordingLogger { line in logged.withLock { $0.append(line) } })
        pinger.start()
        Thread.sleep(forTimeInterval: 0.5)
        let alive = listener.messages.count
        #expect(alive >= 3, "pings while alive: \(alive)")
        problem.withLock { $0 = "the analysis loop has not gone round for 50 s" }
        Thread.sleep(forTimeInterval: 0.3)  // a ping may have been on its way
        let atStuck = listener.messages.count
        Thread.sleep(forTimeInterval: 0.5)
        #expect(listener.messages.count == atStuck, "no ping while stuck")
        problem.withLock { $0 = nil }
        Thread.sleep(forTimeInterval: 0.5)
        pinger.stop()
        #expect(listener.messages.count >= atStuck + 3, "pings resume")
        let lines = logged.withLock { $0 }
        #expect(
            lines.filter { $0.contains("has not gone round for 50 s") && $0.contains("systemd restarts it") }.count
                == 1, "\(lines)")
        #expect(lines.contains { $0.contains("resume") })
        let afterStop = listener.messages.count
        Thread.sleep(forTimeInterval: 0.2)
        #expect(listener.messages.count == afterStop, "nothing after stop()")
        #expect(listener.messages.allSatisfy { $0.message == "WATCHDOG=1" })
    }
}
