/// The window numbers the state files hold: 1 up to 2^53 − 1, the largest integer
/// every JSON reader (JavaScript's numbers among them) reads exactly. A file that
/// claims more is damaged, never a reason to trap.
public enum WindowNumberRange {
    public static let largest: UInt64 = (1 << 53) - 1

    public static func contains(_ number: UInt64) -> Bool { (1...largest).contains(number) }
}
