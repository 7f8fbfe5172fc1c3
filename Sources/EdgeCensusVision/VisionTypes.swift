// The pipeline's plain types (settings, faces, boxes, age groups) live in
// EdgeCensusVisionTypes, without OpenCV; whoever uses the pipeline gets them too.
@_exported public import EdgeCensusVisionTypes
