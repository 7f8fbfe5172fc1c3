// What the shim's files share: the error slot, the guard that turns C++
// exceptions into it, and the image handle.
#pragma once
#include <opencv2/core.hpp>

#include <exception>
#include <string>

struct ec_image { cv::Mat mat; };

extern thread_local std::string last_error;

template <typename F>
static auto guarded(F &&body, decltype(body()) failure) -> decltype(body()) {
    try {
        last_error.clear();
        return body();
    } catch (const cv::Exception &e) {
        last_error = e.msg.empty() ? e.what() : e.msg;
    } catch (const std::exception &e) {
        last_error = e.what();
    } catch (...) {
        last_error = "unknown failure in the C++ shim";
    }
    return failure;
}

static inline ec_image *wrap(cv::Mat mat) {
    if (mat.empty()) return nullptr;
    return new ec_image{std::move(mat)};
}
