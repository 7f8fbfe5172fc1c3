/// The order of colour channels a network expects.
public enum ColorOrder: String, Sendable, Codable {
    case rgb
    case bgr
}
