// The motion settings live in EdgeCensusVisionTypes, without OpenCV.
@_exported public import EdgeCensusVisionTypes
