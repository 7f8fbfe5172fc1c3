// Video files through FFmpeg's own libraries (libavformat, libavcodec, libswscale),
// not OpenCV's videoio: that module links GStreamer, libdc1394, libgphoto2 and more,
// about 27 MiB of resident libraries the agent never uses. Frames come out as BGR,
// converted as OpenCV's FFmpeg backend converts them (bicubic flags, BGR24).
//
// FFmpeg is loaded (dlopen) when the first video is opened, not linked: Debian's build
// of it brings 120 libraries, 21 MiB resident before a single frame is decoded, which a
// camera agent or `detect` would otherwise carry for nothing.
#include "COpenCV.h"
#include "shim_internal.hpp"

#include <dlfcn.h>
#include <mutex>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/macros.h>
#include <libswscale/swscale.h>
}

namespace {

// Every FFmpeg function the decoder calls, by library.
#define EC_FFMPEG_FUNCTIONS(X)                                                                      \
    X(avutil, av_log_set_level) X(avutil, av_strerror) X(avutil, av_frame_alloc)                    \
    X(avutil, av_frame_free) X(avutil, av_frame_unref)                      \
    X(swscale, sws_getCachedContext) X(swscale, sws_scale) X(swscale, sws_freeContext)              \
    X(avcodec, avcodec_find_decoder) X(avcodec, avcodec_alloc_context3) X(avcodec, avcodec_free_context) \
    X(avcodec, avcodec_parameters_to_context) X(avcodec, avcodec_open2) X(avcodec, avcodec_get_name) \
    X(avcodec, avcodec_send_packet) X(avcodec, avcodec_receive_frame) X(avcodec, av_packet_alloc)   \
    X(avcodec, av_packet_free) X(avcodec, av_packet_unref)                                          \
    X(avformat, avformat_open_input) X(avformat, avformat_close_input)                              \
    X(avformat, avformat_find_stream_info) X(avformat, av_find_best_stream) X(avformat, av_read_frame) \
    X(avformat, av_find_input_format) X(avformat, av_match_ext)

struct FFmpeg {
#define EC_FFMPEG_POINTER(library, name) decltype(&::name) name = nullptr;
    EC_FFMPEG_FUNCTIONS(EC_FFMPEG_POINTER)
#undef EC_FFMPEG_POINTER
};

// The libraries by the sonames of the headers built against (libavformat.so.59 on
// Debian 12, .so.61 on Debian 13), loaded once; nullptr and `failure` if one is missing.
const FFmpeg *load_ffmpeg(std::string &failure) {
    static FFmpeg ffmpeg;
    static std::string problem;
    static std::once_flag once;
    std::call_once(once, [] {
        // Debian names each library's package lib<name><major>: libavformat59 holds libavformat.so.59.
        struct Library { const char *name; const char *soname; const char *package; void *handle; };
        Library libraries[] = {
            {"avutil", "libavutil.so." AV_STRINGIFY(LIBAVUTIL_VERSION_MAJOR), "libavutil" AV_STRINGIFY(LIBAVUTIL_VERSION_MAJOR), nullptr},
            {"swscale", "libswscale.so." AV_STRINGIFY(LIBSWSCALE_VERSION_MAJOR), "libswscale" AV_STRINGIFY(LIBSWSCALE_VERSION_MAJOR), nullptr},
            {"avcodec", "libavcodec.so." AV_STRINGIFY(LIBAVCODEC_VERSION_MAJOR), "libavcodec" AV_STRINGIFY(LIBAVCODEC_VERSION_MAJOR), nullptr},
            {"avformat", "libavformat.so." AV_STRINGIFY(LIBAVFORMAT_VERSION_MAJOR), "libavformat" AV_STRINGIFY(LIBAVFORMAT_VERSION_MAJOR), nullptr},
        };
        for (Library &library : libraries) {
            library.handle = dlopen(library.soname, RTLD_NOW | RTLD_LOCAL);
            if (!library.handle) {
                const char *reason = dlerror();
                problem = std::string("video files need FFmpeg's ") + library.soname + ", which could not be loaded" +
                          (reason ? std::string(" (") + reason + ")" : std::string()) +
                          "; install it (Debian: apt-get install " + library.package + "), or read frames from a camera or an image folder";
                return;
            }
        }
        auto handle = [&](const char *name) -> void * {
            for (Library &library : libraries)
                if (std::string(library.name) == name) return library.handle;
            return nullptr;
        };
#define EC_FFMPEG_RESOLVE(library, name)                                                              \
        ffmpeg.name = reinterpret_cast<decltype(&::name)>(dlsym(handle(#library), #name));          \
        if (!ffmpeg.name) { problem = "FFmpeg's lib" #library " has no " #name "; is it the version EdgeCensus was built with?"; return; }
        EC_FFMPEG_FUNCTIONS(EC_FFMPEG_RESOLVE)
#undef EC_FFMPEG_RESOLVE
    });
    if (!problem.empty()) {
        failure = problem;
        return nullptr;
    }
    return &ffmpeg;
}

}  // namespace

struct ec_video {
    const FFmpeg *ff = nullptr;
    AVFormatContext *format = nullptr;
    AVCodecContext *codec = nullptr;
    SwsContext *scaler = nullptr;
    AVFrame *frame = nullptr;
    AVPacket *packet = nullptr;
    int stream = -1;
    double fps = 0;
    long frames = 0;
    double position_ms = 0;
    bool draining = false;

    explicit ec_video(const FFmpeg *ffmpeg) : ff(ffmpeg) {}
    ~ec_video() {
        ff->sws_freeContext(scaler);
        ff->av_frame_free(&frame);
        ff->av_packet_free(&packet);
        ff->avcodec_free_context(&codec);
        ff->avformat_close_input(&format);
    }
};

// The common containers are opened by their own demuxer, chosen from the file's
// extension: probing asks each of FFmpeg's 300-odd formats in turn, which brings 1.6 MiB
// of their code (libopenmpt's among it) into memory for nothing. These three check their
// file's header themselves, so a misnamed file fails to open and is then probed as usual.
static const AVInputFormat *container_for(const FFmpeg *ff, const char *path) {
    static const char *const containers[] = {"mov", "matroska", "avi"};
    for (const char *name : containers) {
        const AVInputFormat *format = ff->av_find_input_format(name);
        if (format && format->extensions && ff->av_match_ext(path, format->extensions)) return format;
    }
    return nullptr;
}

static std::string av_message(const FFmpeg *ff, int code) {
    char text[AV_ERROR_MAX_STRING_SIZE] = {0};
    ff->av_strerror(code, text, sizeof text);
    return text;
}

extern "C" {

ec_video *ec_video_open(const char *path) {
    return guarded([&]() -> ec_video * {
        const FFmpeg *ff = load_ffmpeg(last_error);
        if (!ff) return (ec_video *)nullptr;
        ff->av_log_set_level(AV_LOG_ERROR);
        auto *video = new ec_video(ff);
        int code = -1;
        if (const AVInputFormat *container = container_for(ff, path))
            code = ff->avformat_open_input(&video->format, path, container, nullptr);
        if (code < 0) code = ff->avformat_open_input(&video->format, path, nullptr, nullptr);
        if (code < 0) {
            delete video;
            last_error = "FFmpeg could not open the file as a video: " + av_message(ff, code);
            return nullptr;
        }
        if ((code = ff->avformat_find_stream_info(video->format, nullptr)) < 0 ||
            (code = ff->av_find_best_stream(video->format, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0)) < 0) {
            delete video;
            last_error = "the file has no video stream FFmpeg can read: " + av_message(ff, code);
            return nullptr;
        }
        video->stream = code;
        AVStream *stream = video->format->streams[code];
        const AVCodec *decoder = ff->avcodec_find_decoder(stream->codecpar->codec_id);
        if (!decoder) {
            delete video;
            last_error = std::string("no decoder for the video's codec (") + ff->avcodec_get_name(stream->codecpar->codec_id) + ")";
            return nullptr;
        }
        video->codec = ff->avcodec_alloc_context3(decoder);
        if (!video->codec || (code = ff->avcodec_parameters_to_context(video->codec, stream->codecpar)) < 0 ||
            (code = ff->avcodec_open2(video->codec, decoder, nullptr)) < 0) {
            delete video;
            last_error = "FFmpeg could not open the video decoder: " + av_message(ff, code);
            return nullptr;
        }
        video->frame = ff->av_frame_alloc();
        video->packet = ff->av_packet_alloc();
        // As OpenCV reports CAP_PROP_FPS: the stream's real base rate, else its average.
        AVRational rate = stream->r_frame_rate.num > 0 ? stream->r_frame_rate : stream->avg_frame_rate;
        video->fps = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0;
        video->frames = stream->nb_frames > 0 ? (long)stream->nb_frames : 0;
        return video;
    }, nullptr);
}

void ec_video_close(ec_video *video) { delete video; }
double ec_video_fps(const ec_video *video) { return video->fps; }
long ec_video_frame_count(const ec_video *video) { return video->frames; }
double ec_video_position_ms(const ec_video *video) { return video->position_ms; }

ec_image *ec_video_read(ec_video *video) {
    const FFmpeg *ff = video->ff;
    return guarded([&]() -> ec_image * {
        for (;;) {
            int code = ff->avcodec_receive_frame(video->codec, video->frame);
            if (code == 0) break;
            if (code == AVERROR_EOF) return nullptr;  // the end: ec_last_error() stays ""
            if (code != AVERROR(EAGAIN)) {
                last_error = "the video decoder failed: " + av_message(ff, code);
                return nullptr;
            }
            if (video->draining) return nullptr;
            // Feed the decoder the next packet of the video stream (or the end of the file).
            for (;;) {
                code = ff->av_read_frame(video->format, video->packet);
                if (code < 0) {
                    video->draining = true;
                    ff->avcodec_send_packet(video->codec, nullptr);
                    break;
                }
                bool ours = video->packet->stream_index == video->stream;
                if (ours) code = ff->avcodec_send_packet(video->codec, video->packet);
                ff->av_packet_unref(video->packet);
                if (ours) {
                    if (code < 0 && code != AVERROR(EAGAIN)) {
                        last_error = "the video decoder refused a packet: " + av_message(ff, code);
                        return nullptr;
                    }
                    break;
                }
            }
        }
        AVFrame *frame = video->frame;
        AVStream *stream = video->format->streams[video->stream];
        if (frame->best_effort_timestamp != AV_NOPTS_VALUE)
            video->position_ms = frame->best_effort_timestamp * av_q2d(stream->time_base) * 1000.0;
        video->scaler = ff->sws_getCachedContext(video->scaler, frame->width, frame->height, (AVPixelFormat)frame->format,
                                             frame->width, frame->height, AV_PIX_FMT_BGR24, SWS_BICUBIC,
                                             nullptr, nullptr, nullptr);
        if (!video->scaler) {
            last_error = "FFmpeg cannot convert the video's pixel format to BGR";
            return nullptr;
        }
        cv::Mat bgr(frame->height, frame->width, CV_8UC3);
        uint8_t *planes[4] = {bgr.data, nullptr, nullptr, nullptr};
        int strides[4] = {(int)bgr.step[0], 0, 0, 0};
        ff->sws_scale(video->scaler, frame->data, frame->linesize, 0, frame->height, planes, strides);
        ff->av_frame_unref(frame);
        return wrap(std::move(bgr));
    }, nullptr);
}

}  // extern "C"
