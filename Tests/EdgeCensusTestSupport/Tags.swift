public import Testing

/// What a suite needs beyond the build, so that the fast loop can leave it out
/// (`Tests/run-fast.sh`; see Tests/README.md). CI runs every test.
extension Tag {
    /// Starts a real mosquitto broker (and often the built agent against it).
    @Tag public static var broker: Self
    /// Boots a qemu guest (real V4L2 drivers).
    @Tag public static var guest: Self
    /// Mounts small filesystems, so needs root (it skips, saying so, without it).
    @Tag public static var root: Self
    /// Takes more than about 10 seconds of a 2-core machine: videos, whole sets of
    /// photos, fuzz campaigns.
    @Tag public static var slow: Self
}
