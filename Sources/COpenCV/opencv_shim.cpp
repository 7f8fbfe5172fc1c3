// Thin wrappers: every exported function catches what OpenCV throws and turns it
// into a NULL / negative return plus ec_last_error(). No policy lives here.
#include "COpenCV.h"
#include "shim_internal.hpp"

#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include <exception>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <string>
#include <vector>

struct ec_net { cv::dnn::Net net; };

thread_local std::string last_error;

extern "C" {

const char *ec_last_error(void) { return last_error.c_str(); }
const char *ec_opencv_version(void) { return CV_VERSION; }
void ec_set_num_threads(int threads) { cv::setNumThreads(threads); }
int ec_get_num_threads(void) { return cv::getNumThreads(); }
void ec_release_free_heap_pages(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

ec_image *ec_image_create(int width, int height, int channels, const uint8_t *pixels, size_t stride) {
    return guarded([&]() -> ec_image * {
        cv::Mat view(height, width, CV_8UC(channels), (void *)pixels, stride);
        return wrap(view.clone());
    }, nullptr);
}

ec_image *ec_image_from_yuyv(int width, int height, const uint8_t *pixels, size_t stride) {
    return guarded([&]() -> ec_image * {
        cv::Mat view(height, width, CV_8UC2, (void *)pixels, stride);
        cv::Mat bgr;
        cv::cvtColor(view, bgr, cv::COLOR_YUV2BGR_YUYV);
        return wrap(std::move(bgr));
    }, nullptr);
}

ec_image *ec_image_clone(const ec_image *image) {
    return guarded([&]() -> ec_image * { return wrap(image->mat.clone()); }, nullptr);
}

void ec_image_destroy(ec_image *image) { delete image; }
int ec_image_width(const ec_image *image) { return image->mat.cols; }
int ec_image_height(const ec_image *image) { return image->mat.rows; }
int ec_image_channels(const ec_image *image) { return image->mat.channels(); }
size_t ec_image_stride(const ec_image *image) { return image->mat.step[0]; }
const uint8_t *ec_image_pixels(const ec_image *image) { return image->mat.ptr<uint8_t>(0); }

ec_image *ec_image_resize(const ec_image *image, int width, int height, int interpolation) {
    return guarded([&]() -> ec_image * {
        cv::Mat out;
        cv::resize(image->mat, out, cv::Size(width, height), 0, 0,
                   interpolation == EC_INTERPOLATION_AREA ? cv::INTER_AREA : cv::INTER_LINEAR);
        return wrap(out);
    }, nullptr);
}

ec_image *ec_image_warp_affine(const ec_image *image, const double matrix[6], int width, int height) {
    return guarded([&]() -> ec_image * {
        cv::Mat m(2, 3, CV_64F, (void *)matrix);
        cv::Mat out;
        cv::warpAffine(image->mat, out, m, cv::Size(width, height),
                       cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_CONSTANT, cv::Scalar::all(0));
        return wrap(out);
    }, nullptr);
}

ec_image *ec_image_pad(const ec_image *image, int top, int bottom, int left, int right, int mode) {
    return guarded([&]() -> ec_image * {
        cv::Mat out;
        cv::copyMakeBorder(image->mat, out, top, bottom, left, right,
                           mode == EC_BORDER_REPLICATE ? cv::BORDER_REPLICATE : cv::BORDER_CONSTANT,
                           cv::Scalar::all(0));
        return wrap(out);
    }, nullptr);
}

ec_image *ec_image_flip_horizontal(const ec_image *image) {
    return guarded([&]() -> ec_image * {
        cv::Mat out;
        cv::flip(image->mat, out, 1);
        return wrap(out);
    }, nullptr);
}

double ec_image_laplacian_variance(const ec_image *image) {
    return guarded([&]() -> double {
        cv::Mat grey, laplacian;
        if (image->mat.channels() == 1) grey = image->mat; else cv::cvtColor(image->mat, grey, cv::COLOR_BGR2GRAY);
        cv::Laplacian(grey, laplacian, CV_64F);
        cv::Scalar mean, deviation;
        cv::meanStdDev(laplacian, mean, deviation);
        return deviation[0] * deviation[0];
    }, -1.0);
}

void ec_image_draw_rectangle(ec_image *image, int x, int y, int width, int height,
                             uint8_t blue, uint8_t green, uint8_t red, int thickness) {
    guarded([&]() -> int {
        cv::rectangle(image->mat, cv::Rect(x, y, width, height), cv::Scalar(blue, green, red), thickness, cv::LINE_AA);
        return 0;
    }, -1);
}

void ec_image_draw_dot(ec_image *image, int x, int y, int radius, uint8_t blue, uint8_t green, uint8_t red) {
    guarded([&]() -> int {
        cv::circle(image->mat, cv::Point(x, y), radius, cv::Scalar(blue, green, red), cv::FILLED, cv::LINE_AA);
        return 0;
    }, -1);
}

void ec_image_draw_label(ec_image *image, const char *text, int x, int y,
                         uint8_t blue, uint8_t green, uint8_t red, double scale) {
    guarded([&]() -> int {
        int baseline = 0;
        const int thickness = std::max(1, (int)(scale * 2));
        cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, thickness, &baseline);
        cv::Rect box(x, y, size.width + 6, size.height + baseline + 6);
        cv::rectangle(image->mat, box, cv::Scalar(blue, green, red), cv::FILLED);
        const double luminance = 0.114 * blue + 0.587 * green + 0.299 * red;
        cv::Scalar ink = luminance > 128 ? cv::Scalar(0, 0, 0) : cv::Scalar(255, 255, 255);
        cv::putText(image->mat, text, cv::Point(x + 3, y + 3 + size.height), cv::FONT_HERSHEY_SIMPLEX,
                    scale, ink, thickness, cv::LINE_AA);
        return 0;
    }, -1);
}

static ec_net *wrap_net(cv::dnn::Net net) {
    if (net.empty()) {
        last_error = "OpenCV loaded an empty network";
        return nullptr;
    }
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    return new ec_net{std::move(net)};
}

ec_net *ec_net_read_caffe(const char *prototxt_path, const char *weights_path) {
    return guarded([&]() -> ec_net * { return wrap_net(cv::dnn::readNetFromCaffe(prototxt_path, weights_path)); }, nullptr);
}

ec_net *ec_net_read_onnx(const char *path) {
    return guarded([&]() -> ec_net * { return wrap_net(cv::dnn::readNetFromONNX(path)); }, nullptr);
}

void ec_net_destroy(ec_net *net) { delete net; }

int ec_net_forward(ec_net *net, const float *blob, int n, int c, int h, int w,
                   float *output, size_t capacity, size_t *output_count, int *shape, int *dims) {
    return guarded([&]() -> int {
        const int sizes[4] = {n, c, h, w};
        cv::Mat input(4, sizes, CV_32F, (void *)blob);
        net->net.setInput(input);
        cv::Mat result = net->net.forward();
        if (!result.isContinuous()) result = result.clone();
        if (result.depth() != CV_32F) result.convertTo(result, CV_32F);
        const size_t total = result.total() * result.channels();
        *output_count = total;
        *dims = std::min(result.dims, 4);
        for (int i = 0; i < *dims; ++i) shape[i] = result.size[i];
        const size_t copied = std::min(total, capacity);
        std::copy(result.ptr<float>(0), result.ptr<float>(0) + copied, output);
        return 0;
    }, -1);
}

int ec_net_forward_named(ec_net *net, const float *blob, int n, int c, int h, int w,
                         const char *const *names, int name_count,
                         float *output, size_t capacity, size_t *counts) {
    return guarded([&]() -> int {
        const int sizes[4] = {n, c, h, w};
        cv::Mat input(4, sizes, CV_32F, (void *)blob);
        net->net.setInput(input);
        std::vector<cv::String> wanted(names, names + name_count);
        std::vector<cv::Mat> results;
        net->net.forward(results, wanted);
        size_t total = 0;
        for (int i = 0; i < name_count; ++i) {
            cv::Mat &result = results[i];
            if (!result.isContinuous()) result = result.clone();
            if (result.depth() != CV_32F) result.convertTo(result, CV_32F);
            counts[i] = result.total() * result.channels();
            total += counts[i];
        }
        if (total > capacity) return 0;
        size_t offset = 0;
        for (int i = 0; i < name_count; ++i) {
            std::copy(results[i].ptr<float>(0), results[i].ptr<float>(0) + counts[i], output + offset);
            offset += counts[i];
        }
        return 0;
    }, -1);
}

}  // extern "C"
