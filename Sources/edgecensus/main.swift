import EdgeCensusVision
import Foundation
let models = try ModelDirectory.locate()
let pipeline = try FacePipeline.load(from: models)
for path in CommandLine.arguments.dropFirst() {
    let image = try Image.load(contentsOf: path)
    print(path, try pipeline.analyse(image))
}
