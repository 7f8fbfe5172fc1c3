/// Limits on the images the pipeline decodes.
public enum ImageLimits {
    /// The most pixels an image may declare unless told otherwise (`detection.max_megapixels`):
    /// 50 megapixels, 150 MiB decoded, more than any phone camera's photo.
    public static let defaultMaxPixels = 50_000_000
}
