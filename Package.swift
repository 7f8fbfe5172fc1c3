// swift-tools-version: 6.0
import PackageDescription

/// Every Swift target: Swift 6 language mode plus the upcoming features the house style asks for.
let strictSwift: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// OpenCV is linked by naming the few libraries used, not through pkg-config (which names 58).
/// FFmpeg is not linked: video_decoder.cpp loads it when a video file is opened.
let openCVLibraries: [LinkerSetting] = ["opencv_dnn", "opencv_imgproc", "opencv_core", "jpeg", "png16"]
    .map { .linkedLibrary($0) }

let package = Package(
    name: "EdgeCensus",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "edgecensus", targets: ["edgecensus"]),
        .library(name: "EdgeCensusVision", targets: ["EdgeCensusVision"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // Layers, lowest first (Sources/edgecensus/Documentation.docc/Articles/Architecture.md;
        // Tests/EdgeCensusArchitectureTests checks every edge against them).
        // C facilities, wrapped thinly.
        // OpenCV's headers, under the sysroot: /usr/include/opencv4 natively, the arm64
        // root's copy when cross-compiling (see packaging/build-deb.sh --arch).
        .target(
            name: "COpenCV",
            cxxSettings: [.unsafeFlags(["-iwithsysroot", "/usr/include/opencv4"])],
            linkerSettings: openCVLibraries
        ),
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto", providers: [.apt(["libmosquitto-dev"])]),
        .systemLibrary(name: "CV4L2", pkgConfig: "libv4l2", providers: [.apt(["libv4l-dev"])]),

        // Small general helpers with no dependency: JSON text, Internet time.
        .target(
            name: "EdgeCensusSupport",
            swiftSettings: strictSwift
        ),
        // What the vision pipeline is asked and answers, as plain values without OpenCV:
        // its settings, faces, boxes, age groups, genders, the nets' specs.
        .target(
            name: "EdgeCensusVisionTypes",
            swiftSettings: strictSwift
        ),
        // Faces in an image: models, detection, alignment, classification.
        .target(
            name: "EdgeCensusVision",
            dependencies: ["COpenCV", "EdgeCensusVisionTypes"],
            // Optimised even in debug builds: hashing 30 MB of models and running the
            // landmark trees unoptimised would make every test that loads them slow.
            swiftSettings: strictSwift + [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        // What moved in the picture, and whether the face detector needs to look.
        .target(
            name: "EdgeCensusMotion",
            dependencies: ["EdgeCensusVision", "EdgeCensusVisionTypes", "COpenCV"],
            swiftSettings: strictSwift
        ),
        // The one configuration schema and its file.
        .target(
            name: "EdgeCensusConfiguration",
            dependencies: [
                "EdgeCensusVisionTypes", "EdgeCensusCounting", "EdgeCensusTelemetry",
                .product(name: "Yams", package: "Yams"),
                "EdgeCensusLogging", "EdgeCensusStorage", "EdgeCensusSupport",
            ],
            swiftSettings: strictSwift
        ),
        // Configuration over MQTT: the device's service (config/set, config/get,
        // config/state) and the operator's client.
        .target(
            name: "EdgeCensusRemoteConfiguration",
            dependencies: [
                "EdgeCensusConfiguration", "EdgeCensusLogging", "EdgeCensusStorage", "EdgeCensusSupport",
                "EdgeCensusTelemetry",
            ],
            swiftSettings: strictSwift
        ),
        // Frames from cameras (V4L2), video files and image folders.
        .target(
            name: "EdgeCensusCapture",
            dependencies: ["EdgeCensusVision", "COpenCV", "CV4L2"],
            swiftSettings: strictSwift
        ),
        // From faces to anonymous counts: throttle, tracker, windows, sequence numbers.
        .target(
            name: "EdgeCensusCounting",
            dependencies: ["EdgeCensusVisionTypes", "EdgeCensusStorage", "EdgeCensusSupport"],
            swiftSettings: strictSwift
        ),
        // The agent: frames → faces → tracks → windows, paced by the throttle.
        .target(
            name: "EdgeCensusAgent",
            dependencies: [
                "EdgeCensusCapture", "EdgeCensusCounting", "EdgeCensusMotion", "EdgeCensusVision", "EdgeCensusLogging",
            ],
            swiftSettings: strictSwift
        ),
        // The running agent: owns its parts (capture, numbers, buffer, publisher, remote
        // configuration, health, analysis, watchdog) and their start and stop order.
        .target(
            name: "EdgeCensusRuntime",
            dependencies: [
                "EdgeCensusAgent", "EdgeCensusBuffer", "EdgeCensusCapture", "EdgeCensusConfiguration",
                "EdgeCensusCounting",
                "EdgeCensusLogging", "EdgeCensusMotion", "EdgeCensusRemoteConfiguration", "EdgeCensusStorage",
                "EdgeCensusSupport", "EdgeCensusSystemd", "EdgeCensusTelemetry", "EdgeCensusVision",
            ],
            swiftSettings: strictSwift
        ),
        // The agent's log lines, with their levels (journal priorities under systemd).
        .target(
            name: "EdgeCensusLogging",
            swiftSettings: strictSwift
        ),
        // The service's side of systemd: readiness, status and the watchdog (sd_notify).
        .target(
            name: "EdgeCensusSystemd",
            dependencies: ["EdgeCensusLogging"],
            swiftSettings: strictSwift
        ),
        // MQTT: a client over libmosquitto, and the topics and payloads EdgeCensus publishes.
        .target(
            name: "EdgeCensusTelemetry",
            dependencies: [
                "CMosquitto", "EdgeCensusBuffer", "EdgeCensusCounting", "EdgeCensusStorage", "EdgeCensusSupport",
                "EdgeCensusVisionTypes", "EdgeCensusLogging",
            ],
            exclude: ["Schemas"],
            swiftSettings: strictSwift
        ),
        // The operator's view over the broker: every device's retained documents, one change sent to many,
        // and a Home Assistant dashboard for devices.
        .target(
            name: "EdgeCensusFleet",
            dependencies: [
                "EdgeCensusTelemetry", "EdgeCensusConfiguration", "EdgeCensusCounting", "EdgeCensusRemoteConfiguration",
                "EdgeCensusSupport", .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSwift
        ),
        // The offline buffer: a fixed-size ring file of windows not yet acknowledged,
        // and memory while the disk refuses.
        .target(
            name: "EdgeCensusBuffer",
            dependencies: ["EdgeCensusStorage"],
            swiftSettings: strictSwift
        ),
        // Files in the state directory: atomic replacement, disk faults by kind, and the faults in force.
        .target(
            name: "EdgeCensusStorage",
            swiftSettings: strictSwift
        ),
        // Accuracy figures over a labelled set, and latency figures.
        .target(
            name: "EdgeCensusEvaluation",
            dependencies: ["EdgeCensusSupport", "EdgeCensusVision"],
            swiftSettings: strictSwift
        ),
        // Benchmarks (a command prints their figures) and the simulated fleet they measure
        // against: only the command uses them, never a product module.
        .target(
            name: "EdgeCensusBench",
            dependencies: [
                "EdgeCensusBuffer", "EdgeCensusConfiguration", "EdgeCensusCounting", "EdgeCensusFleet",
                "EdgeCensusLogging", "EdgeCensusRemoteConfiguration", "EdgeCensusStorage", "EdgeCensusSupport",
                "EdgeCensusTelemetry", "EdgeCensusVision",
            ],
            swiftSettings: strictSwift
        ),
        // The command line: parses arguments and wires the modules together.
        .executableTarget(
            name: "edgecensus",
            dependencies: [
                "EdgeCensusVision", "EdgeCensusConfiguration", "EdgeCensusEvaluation", "EdgeCensusAgent",
                "EdgeCensusCapture", "EdgeCensusCounting", "EdgeCensusTelemetry", "EdgeCensusBuffer",
                "EdgeCensusLogging", "EdgeCensusSystemd", "EdgeCensusRuntime", "EdgeCensusFleet", "EdgeCensusMotion",
                "EdgeCensusBench", "EdgeCensusRemoteConfiguration", "EdgeCensusStorage", "EdgeCensusSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSwift
        ),

        .target(
            name: "EdgeCensusTestSupport",
            dependencies: ["EdgeCensusTelemetry", "EdgeCensusLogging"],
            path: "Tests/EdgeCensusTestSupport",
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "EdgeCensusVisionTests",
            dependencies: ["EdgeCensusVision", "EdgeCensusTestSupport"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "EdgeCensusMotionTests",
            dependencies: ["EdgeCensusMotion", "EdgeCensusVision", "EdgeCensusCapture", "EdgeCensusTestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "EdgeCensusStorageTests",
            dependencies: ["EdgeCensusStorage", "EdgeCensusTestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "EdgeCensusBufferTests",
            dependencies: ["EdgeCensusBuffer", "EdgeCensusStorage", "EdgeCensusTestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "EdgeCensusCountingTests",
            dependencies: ["EdgeCensusCounting", "EdgeCensusStorage", "EdgeCensusSupport", "EdgeCensusTestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "EdgeCensusCaptureTests",
            dependencies: ["EdgeCensusCapture", "EdgeCensusTestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "EdgeCensusAgentTests",
            dependencies: [
                "EdgeCensusAgent", "EdgeCensusConfiguration", "EdgeCensusMotion", "EdgeCensusRuntime",
                "EdgeCensusTestSupport",
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "EdgeCensusRuntimeTests",
            dependencies: [
                "EdgeCensusRuntime", "EdgeCensusConfiguration", "EdgeCensusRemoteConfiguration", "EdgeCensusVision",
                "EdgeCensusLogging",
                "EdgeCensusTelemetry",
                "EdgeCensusBuffer", "EdgeCensusCapture", "EdgeCensusTestSupport",
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "EdgeCensusLoggingTests",
            dependencies: ["EdgeCensusLogging"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "EdgeCensusSystemdTests",
            dependencies: ["EdgeCensusSystemd", "EdgeCensusTestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "EdgeCensusTelemetryTests",
            dependencies: ["EdgeCensusSupport", "EdgeCensusTelemetry", "EdgeCensusTestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "EdgeCensusConfigurationTests",
            dependencies: [
                "EdgeCensusConfiguration", "EdgeCensusCounting", "EdgeCensusMotion", "EdgeCensusRuntime",
                "EdgeCensusTelemetry",
                "EdgeCensusTestSupport",
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "EdgeCensusRemoteConfigurationTests",
            dependencies: [
                "EdgeCensusConfiguration", "EdgeCensusCounting", "EdgeCensusMotion", "EdgeCensusRemoteConfiguration",
                "EdgeCensusSupport", "EdgeCensusTestSupport",
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "EdgeCensusEvaluationTests",
            dependencies: ["EdgeCensusEvaluation", "EdgeCensusTestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "EdgeCensusArchitectureTests",
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "EdgeCensusSupportTests",
            dependencies: ["EdgeCensusSupport", "EdgeCensusCounting", "EdgeCensusVision", "EdgeCensusTestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "EdgeCensusBenchTests",
            dependencies: ["EdgeCensusBench", "EdgeCensusFleet", "EdgeCensusTelemetry", "EdgeCensusTestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "EdgeCensusFleetTests",
            dependencies: [
                "EdgeCensusFleet", "EdgeCensusTelemetry", "EdgeCensusConfiguration", "EdgeCensusTestSupport",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "edgecensusTests",
            dependencies: [
                "edgecensus", "EdgeCensusBuffer", "EdgeCensusConfiguration", "EdgeCensusRemoteConfiguration",
                "EdgeCensusTelemetry", "EdgeCensusVision",
                "EdgeCensusTestSupport",
            ],
            swiftSettings: strictSwift
        ),
    ],
    cxxLanguageStandard: .cxx17
)
