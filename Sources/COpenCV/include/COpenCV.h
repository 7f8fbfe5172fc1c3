// A small C API over the few C/C++ facilities EdgeCensus uses: JPEG and PNG decode and
// encode (libjpeg, libpng), video files (FFmpeg), resize / warp / pad / flip and drawing
// (OpenCV imgproc), and cv::dnn load + forward.
// Opaque handles with create/destroy pairs; no C++ type crosses this header.
// A function that fails returns NULL (or a negative number) and leaves a
// message for ec_last_error() on the calling thread.
#ifndef COPENCV_H
#define COPENCV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ec_image ec_image;
typedef struct ec_net ec_net;

/// The message of the last failure on this thread ("" when none).
const char *ec_last_error(void);
const char *ec_opencv_version(void);
void ec_set_num_threads(int threads);
/// Returns freed heap pages to the system (glibc's malloc_trim); no-op elsewhere.
void ec_release_free_heap_pages(void);
int ec_get_num_threads(void);

// Images: 8-bit, 1 or 3 channels (3 = BGR, OpenCV's order).
/// JPEG or PNG bytes to BGR. An image whose header declares more than `max_pixels`
/// (width x height) is refused before any pixel is decoded; a JPEG whose data is
/// cut short or corrupt (libjpeg would fill the rest with grey) is refused too.
ec_image *ec_image_decode(const uint8_t *bytes, size_t count, uint64_t max_pixels);
ec_image *ec_image_create(int width, int height, int channels, const uint8_t *pixels, size_t stride);
// YUYV 4:2:2 (Y0 U Y1 V), BT.601 limited range, rows `stride` bytes apart, to BGR.
ec_image *ec_image_from_yuyv(int width, int height, const uint8_t *pixels, size_t stride);
ec_image *ec_image_clone(const ec_image *image);
void ec_image_destroy(ec_image *image);
int ec_image_width(const ec_image *image);
int ec_image_height(const ec_image *image);
int ec_image_channels(const ec_image *image);
size_t ec_image_stride(const ec_image *image);
const uint8_t *ec_image_pixels(const ec_image *image);
/// Writes in the format the path's extension names (.jpg, .png, ...). 0 on success.
int ec_image_write(const ec_image *image, const char *path);

enum { EC_INTERPOLATION_LINEAR = 0, EC_INTERPOLATION_AREA = 1 };
ec_image *ec_image_resize(const ec_image *image, int width, int height, int interpolation);
/// matrix: the 2x3 affine map from OUTPUT pixel coordinates to INPUT ones. Bilinear; black outside.
ec_image *ec_image_warp_affine(const ec_image *image, const double matrix[6], int width, int height);
enum { EC_BORDER_CONSTANT = 0, EC_BORDER_REPLICATE = 1 };
ec_image *ec_image_pad(const ec_image *image, int top, int bottom, int left, int right, int mode);
ec_image *ec_image_flip_horizontal(const ec_image *image);
/// Variance of the Laplacian of the image's grey levels (a sharpness measure); negative on failure.
double ec_image_laplacian_variance(const ec_image *image);

void ec_image_draw_rectangle(ec_image *image, int x, int y, int width, int height,
                             uint8_t blue, uint8_t green, uint8_t red, int thickness);
void ec_image_draw_dot(ec_image *image, int x, int y, int radius, uint8_t blue, uint8_t green, uint8_t red);
/// Text on a filled box of the given colour, its top-left corner at (x, y).
void ec_image_draw_label(ec_image *image, const char *text, int x, int y,
                         uint8_t blue, uint8_t green, uint8_t red, double scale);

// Video files through FFmpeg (libavformat, libavcodec, libswscale).
typedef struct ec_video ec_video;
ec_video *ec_video_open(const char *path);
void ec_video_close(ec_video *video);
/// Frames per second the file declares (0 when unknown).
double ec_video_fps(const ec_video *video);
/// Frame count the file declares (0 when unknown).
long ec_video_frame_count(const ec_video *video);
/// The next frame, BGR; NULL at the end of the file (ec_last_error() then says "" or why).
ec_image *ec_video_read(ec_video *video);
/// Milliseconds of the frame read last, by the file's own timestamps.
double ec_video_position_ms(const ec_video *video);

// Motion: a small, blurred grey copy of each frame compared with a running background.
typedef struct ec_motion ec_motion;
typedef struct {
    /// Share of the picture (0 to 1) whose grey level differs from the background by more than the threshold.
    double changed_share;
    /// The changed pixels' bounding box, in the frame's own pixels (all 0 when nothing changed).
    int x, y, width, height;
    /// The frame's mean grey level minus the background's, before the two were matched.
    double brightness_shift;
    /// 1 when the background was (re)started from this frame: the first frame, a new
    /// frame size, or more than `relearn_share` of the picture changed at once.
    int relearned;
} ec_motion_result;
/// `analysis_width`: the width of the grey copy compared (its height keeps the frame's aspect).
ec_motion *ec_motion_create(int analysis_width);
void ec_motion_destroy(ec_motion *motion);
/// Compares `frame` (BGR or grey) with the background after matching its mean and
/// contrast to the background's (so that a global brightness or exposure change is
/// not a change), then blends it into the background with weight `alpha` (0 to 1).
/// A pixel changed when it differs by more than `threshold` grey levels. 0 on success.
int ec_motion_update(ec_motion *motion, const ec_image *frame, double threshold, double alpha,
                     double relearn_share, ec_motion_result *result);

// Networks through cv::dnn, CPU backend.
ec_net *ec_net_read_caffe(const char *prototxt_path, const char *weights_path);
ec_net *ec_net_read_onnx(const char *path);
void ec_net_destroy(ec_net *net);
/// Runs the net on one NCHW float blob. Writes at most `capacity` output values
/// to `output`, the total count to `output_count`, and the output's shape (up to
/// 4 dims, count in `dims`). 0 on success.
int ec_net_forward(ec_net *net, const float *blob, int n, int c, int h, int w,
                   float *output, size_t capacity, size_t *output_count,
                   int *shape, int *dims);
/// Runs the net on one NCHW float blob and reads the outputs named `names`
/// (`name_count` of them), one after another into `output` (at most `capacity`
/// values); `counts[i]` gets output i's value count. When the sum exceeds
/// `capacity` nothing is copied and the counts say how much room is needed. 0 on success.
int ec_net_forward_named(ec_net *net, const float *blob, int n, int c, int h, int w,
                         const char *const *names, int name_count,
                         float *output, size_t capacity, size_t *counts);

#ifdef __cplusplus
}
#endif

#endif
