// Video files through FFmpeg's own libraries (libavformat, libavcodec, libswscale),
// not OpenCV's videoio: that module links GStreamer, libdc1394, libgphoto2 and more,
// about 27 MiB of resident libraries the agent never uses. Frames come out as BGR,
// converted as OpenCV's FFmpeg backend converts them (bicubic flags, BGR24).
#include "COpenCV.h"
#include "shim_internal.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

struct ec_video {
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

    ~ec_video() {
        sws_freeContext(scaler);
        av_frame_free(&frame);
        av_packet_free(&packet);
        avcodec_free_context(&codec);
        avformat_close_input(&format);
    }
};

// The common containers are opened by their own demuxer, chosen from the file's
// extension: probing asks each of FFmpeg's 300-odd formats in turn, which brings 1.6 MiB
// of their code (libopenmpt's among it) into memory for nothing. These three check their
// file's header themselves, so a misnamed file fails to open and is then probed as usual.
static const AVInputFormat *container_for(const char *path) {
    static const char *const containers[] = {"mov", "matroska", "avi"};
    for (const char *name : containers) {
        const AVInputFormat *format = av_find_input_format(name);
        if (format && format->extensions && av_match_ext(path, format->extensions)) return format;
    }
    return nullptr;
}

static std::string av_message(int code) {
    char text[AV_ERROR_MAX_STRING_SIZE] = {0};
    av_strerror(code, text, sizeof text);
    return text;
}

extern "C" {

ec_video *ec_video_open(const char *path) {
    return guarded([&]() -> ec_video * {
        av_log_set_level(AV_LOG_ERROR);
        auto *video = new ec_video();
        int code = -1;
        if (const AVInputFormat *container = container_for(path))
            code = avformat_open_input(&video->format, path, container, nullptr);
        if (code < 0) code = avformat_open_input(&video->format, path, nullptr, nullptr);
        if (code < 0) {
            delete video;
            last_error = "FFmpeg could not open the file as a video: " + av_message(code);
            return nullptr;
        }
        if ((code = avformat_find_stream_info(video->format, nullptr)) < 0 ||
            (code = av_find_best_stream(video->format, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0)) < 0) {
            delete video;
            last_error = "the file has no video stream FFmpeg can read: " + av_message(code);
            return nullptr;
        }
        video->stream = code;
        AVStream *stream = video->format->streams[code];
        const AVCodec *decoder = avcodec_find_decoder(stream->codecpar->codec_id);
        if (!decoder) {
            delete video;
            last_error = std::string("no decoder for the video's codec (") + avcodec_get_name(stream->codecpar->codec_id) + ")";
            return nullptr;
        }
        video->codec = avcodec_alloc_context3(decoder);
        if (!video->codec || (code = avcodec_parameters_to_context(video->codec, stream->codecpar)) < 0 ||
            (code = avcodec_open2(video->codec, decoder, nullptr)) < 0) {
            delete video;
            last_error = "FFmpeg could not open the video decoder: " + av_message(code);
            return nullptr;
        }
        video->frame = av_frame_alloc();
        video->packet = av_packet_alloc();
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
    return guarded([&]() -> ec_image * {
        for (;;) {
            int code = avcodec_receive_frame(video->codec, video->frame);
            if (code == 0) break;
            if (code == AVERROR_EOF) return nullptr;  // the end: ec_last_error() stays ""
            if (code != AVERROR(EAGAIN)) {
                last_error = "the video decoder failed: " + av_message(code);
                return nullptr;
            }
            if (video->draining) return nullptr;
            // Feed the decoder the next packet of the video stream (or the end of the file).
            for (;;) {
                code = av_read_frame(video->format, video->packet);
                if (code < 0) {
                    video->draining = true;
                    avcodec_send_packet(video->codec, nullptr);
                    break;
                }
                bool ours = video->packet->stream_index == video->stream;
                if (ours) code = avcodec_send_packet(video->codec, video->packet);
                av_packet_unref(video->packet);
                if (ours) {
                    if (code < 0 && code != AVERROR(EAGAIN)) {
                        last_error = "the video decoder refused a packet: " + av_message(code);
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
        video->scaler = sws_getCachedContext(video->scaler, frame->width, frame->height, (AVPixelFormat)frame->format,
                                             frame->width, frame->height, AV_PIX_FMT_BGR24, SWS_BICUBIC,
                                             nullptr, nullptr, nullptr);
        if (!video->scaler) {
            last_error = "FFmpeg cannot convert the video's pixel format to BGR";
            return nullptr;
        }
        cv::Mat bgr(frame->height, frame->width, CV_8UC3);
        uint8_t *planes[4] = {bgr.data, nullptr, nullptr, nullptr};
        int strides[4] = {(int)bgr.step[0], 0, 0, 0};
        sws_scale(video->scaler, frame->data, frame->linesize, 0, frame->height, planes, strides);
        av_frame_unref(frame);
        return wrap(std::move(bgr));
    }, nullptr);
}

}  // extern "C"
