// JPEG and PNG through libjpeg(-turbo) and libpng, not OpenCV's imgcodecs: that
// module links GDAL, GDCM, Poppler, librsvg and more, about 27 MiB of resident
// libraries for formats EdgeCensus never reads. Decoding matches imgcodecs'
// (libjpeg's defaults with BGR output, EXIF orientation applied; PNG expanded to
// 8-bit BGR with alpha dropped), so the pixels are the same.
#include "COpenCV.h"
#include "shim_internal.hpp"

#include <opencv2/core.hpp>

#include <cerrno>
#include <csetjmp>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <vector>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

// --- JPEG ------------------------------------------------------------------

namespace {

struct JpegError {
    jpeg_error_mgr manager;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    // The first warning that means pixels are missing (data cut short or corrupt).
    char damage[JMSG_LENGTH_MAX];
};

void jpeg_fail(j_common_ptr info) {
    auto *error = reinterpret_cast<JpegError *>(info->err);
    (*info->err->format_message)(info, error->message);
    longjmp(error->jump, 1);
}

// Warnings (level -1): libjpeg decodes on past damage, filling what is missing with
// grey. Those that mean missing pixels are remembered; others (extraneous bytes
// between markers, common in camera MJPEG) are harmless.
void jpeg_note_damage(j_common_ptr info, int level) {
    if (level != -1) return;
    auto *error = reinterpret_cast<JpegError *>(info->err);
    int code = info->err->msg_code;
    if (error->damage[0] == 0 && (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER || code == JWRN_MUST_RESYNC
                                  || code == JWRN_HUFF_BAD_CODE || code == JWRN_BOGUS_PROGRESSION))
        (*info->err->format_message)(info, error->damage);
}

// The EXIF orientation (1-8) in an APP1 marker, 1 when there is none.
int exif_orientation(const uint8_t *data, size_t size) {
    if (size < 14 || memcmp(data, "Exif\0\0", 6) != 0) return 1;
    const uint8_t *tiff = data + 6;
    size_t length = size - 6;
    bool little = tiff[0] == 'I' && tiff[1] == 'I';
    if (!little && !(tiff[0] == 'M' && tiff[1] == 'M')) return 1;
    auto u16 = [&](size_t at) -> unsigned { return little ? tiff[at] | tiff[at + 1] << 8 : tiff[at] << 8 | tiff[at + 1]; };
    auto u32 = [&](size_t at) -> size_t {
        return little ? (size_t)tiff[at] | (size_t)tiff[at + 1] << 8 | (size_t)tiff[at + 2] << 16 | (size_t)tiff[at + 3] << 24
                      : (size_t)tiff[at] << 24 | (size_t)tiff[at + 1] << 16 | (size_t)tiff[at + 2] << 8 | (size_t)tiff[at + 3];
    };
    size_t ifd = u32(4);
    if (ifd + 2 > length) return 1;
    unsigned entries = u16(ifd);
    for (unsigned i = 0; i < entries; ++i) {
        size_t entry = ifd + 2 + 12 * (size_t)i;
        if (entry + 12 > length) return 1;
        if (u16(entry) == 0x0112) {
            unsigned value = u16(entry + 8);
            return value >= 1 && value <= 8 ? (int)value : 1;
        }
    }
    return 1;
}

// As imgcodecs' ApplyExifOrientation.
void apply_orientation(cv::Mat &mat, int orientation) {
    switch (orientation) {
    case 2: cv::flip(mat, mat, 1); break;
    case 3: cv::flip(mat, mat, -1); break;
    case 4: cv::flip(mat, mat, 0); break;
    case 5: cv::transpose(mat, mat); break;
    case 6: cv::transpose(mat, mat); cv::flip(mat, mat, 1); break;
    case 7: cv::transpose(mat, mat); cv::flip(mat, mat, -1); break;
    case 8: cv::transpose(mat, mat); cv::flip(mat, mat, 0); break;
    default: break;
    }
}

std::string too_many_pixels(uint64_t width, uint64_t height, uint64_t max_pixels) {
    char text[200];
    snprintf(text, sizeof text, "the image declares %llux%llu pixels (%.1f megapixels), more than the %g allowed (detection.max_megapixels)",
             (unsigned long long)width, (unsigned long long)height, (double)(width * height) / 1e6, (double)max_pixels / 1e6);
    return text;
}

cv::Mat decode_jpeg(const uint8_t *bytes, size_t count, uint64_t max_pixels) {
    jpeg_decompress_struct info;
    JpegError error;
    error.damage[0] = 0;
    info.err = jpeg_std_error(&error.manager);
    error.manager.error_exit = jpeg_fail;
    error.manager.emit_message = jpeg_note_damage;
    cv::Mat mat;
    if (setjmp(error.jump)) {
        jpeg_destroy_decompress(&info);
        last_error = std::string("not a JPEG libjpeg can decode: ") + error.message;
        return cv::Mat();
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, bytes, (unsigned long)count);
    jpeg_save_markers(&info, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&info, TRUE);
    if (info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK) {
        jpeg_destroy_decompress(&info);
        last_error = "a CMYK JPEG (a print file): save it as an RGB JPEG or a PNG";
        return cv::Mat();
    }
    if ((uint64_t)info.image_width * info.image_height > max_pixels) {
        last_error = too_many_pixels(info.image_width, info.image_height, max_pixels);
        jpeg_destroy_decompress(&info);
        return cv::Mat();
    }
    info.out_color_space = JCS_EXT_BGR;
    jpeg_start_decompress(&info);
    mat.create((int)info.output_height, (int)info.output_width, CV_8UC3);
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = mat.ptr<uint8_t>((int)info.output_scanline);
        jpeg_read_scanlines(&info, &row, 1);
    }
    int orientation = 1;
    for (jpeg_saved_marker_ptr marker = info.marker_list; marker; marker = marker->next)
        if (marker->marker == JPEG_APP0 + 1) orientation = exif_orientation(marker->data, marker->data_length);
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    if (error.damage[0] != 0) {
        last_error = std::string("the JPEG is damaged or cut short (") + error.damage + "): part of it would be grey";
        return cv::Mat();
    }
    apply_orientation(mat, orientation);
    return mat;
}

bool encode_jpeg(const cv::Mat &bgr, FILE *file, int quality) {
    jpeg_compress_struct info;
    JpegError error;
    info.err = jpeg_std_error(&error.manager);
    error.manager.error_exit = jpeg_fail;
    if (setjmp(error.jump)) {
        jpeg_destroy_compress(&info);
        last_error = std::string("libjpeg could not encode the image: ") + error.message;
        return false;
    }
    jpeg_create_compress(&info);
    jpeg_stdio_dest(&info, file);
    info.image_width = (JDIMENSION)bgr.cols;
    info.image_height = (JDIMENSION)bgr.rows;
    info.input_components = bgr.channels();
    info.in_color_space = bgr.channels() == 1 ? JCS_GRAYSCALE : JCS_EXT_BGR;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, quality, TRUE);
    jpeg_start_compress(&info, TRUE);
    while (info.next_scanline < info.image_height) {
        JSAMPROW row = const_cast<uint8_t *>(bgr.ptr<uint8_t>((int)info.next_scanline));
        jpeg_write_scanlines(&info, &row, 1);
    }
    jpeg_finish_compress(&info);
    jpeg_destroy_compress(&info);
    return true;
}

// --- PNG -------------------------------------------------------------------

struct PngReader {
    const uint8_t *bytes;
    size_t count;
    size_t offset;
};

void png_read_memory(png_structp png, png_bytep out, png_size_t length) {
    auto *reader = static_cast<PngReader *>(png_get_io_ptr(png));
    if (reader->offset + length > reader->count) png_error(png, "the PNG data ends early");
    memcpy(out, reader->bytes + reader->offset, length);
    reader->offset += length;
}

void png_fail(png_structp png, png_const_charp message) {
    last_error = std::string("not a PNG libpng can decode: ") + message;
    png_longjmp(png, 1);
}

void png_quiet(png_structp, png_const_charp) {}

cv::Mat decode_png(const uint8_t *bytes, size_t count, uint64_t max_pixels) {
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, png_fail, png_quiet);
    png_infop info = png ? png_create_info_struct(png) : nullptr;
    if (!png || !info) {
        png_destroy_read_struct(&png, &info, nullptr);
        last_error = "libpng could not start";
        return cv::Mat();
    }
    cv::Mat mat;
    std::vector<png_bytep> rows;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, nullptr);
        return cv::Mat();
    }
    PngReader reader{bytes, count, 0};
    png_set_read_fn(png, &reader, png_read_memory);
    // libpng's own bounds: a side longer than the pixel budget allows, or chunks
    // (text, ICC profiles) that inflate past 8 MiB, are errors before any allocation.
    png_uint_32 side = max_pixels > 0x7fffffffULL ? 0x7fffffff : (png_uint_32)max_pixels;
    png_set_user_limits(png, side, side);
    png_set_chunk_malloc_max(png, 8 * 1024 * 1024);
    png_read_info(png, info);
    uint64_t width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    if (width * height > max_pixels) {
        last_error = too_many_pixels(width, height, max_pixels);
        png_destroy_read_struct(&png, &info, nullptr);
        return cv::Mat();
    }
    // As imgcodecs' PNG decoder for IMREAD_COLOR: 8 bits, BGR, alpha dropped.
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    png_set_packing(png);
    if (png_get_color_type(png, info) == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if ((png_get_color_type(png, info) & PNG_COLOR_MASK_COLOR) == 0 && png_get_bit_depth(png, info) < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);  // then stripped, as above
    if ((png_get_color_type(png, info) & PNG_COLOR_MASK_COLOR) == 0) png_set_gray_to_rgb(png);
    png_set_bgr(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    mat.create((int)png_get_image_height(png, info), (int)png_get_image_width(png, info), CV_8UC3);
    rows.resize(mat.rows);
    for (int y = 0; y < mat.rows; ++y) rows[y] = mat.ptr<uint8_t>(y);
    png_read_image(png, rows.data());
    png_read_end(png, nullptr);
    png_destroy_read_struct(&png, &info, nullptr);
    return mat;
}

bool encode_png(const cv::Mat &image, FILE *file) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, png_quiet);
    png_infop info = png ? png_create_info_struct(png) : nullptr;
    if (!png || !info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        last_error = "libpng could not encode the image";
        return false;
    }
    png_init_io(png, file);
    png_set_IHDR(png, info, (png_uint_32)image.cols, (png_uint_32)image.rows, 8,
                 image.channels() == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    if (image.channels() == 3) png_set_bgr(png);
    for (int y = 0; y < image.rows; ++y) png_write_row(png, const_cast<uint8_t *>(image.ptr<uint8_t>(y)));
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return true;
}

bool has_suffix(const std::string &text, const char *suffix) {
    size_t n = strlen(suffix);
    if (text.size() < n) return false;
    for (size_t i = 0; i < n; ++i)
        if (tolower((unsigned char)text[text.size() - n + i]) != suffix[i]) return false;
    return true;
}

}  // namespace

extern "C" {

ec_image *ec_image_decode(const uint8_t *bytes, size_t count, uint64_t max_pixels) {
    return guarded([&]() -> ec_image * {
        cv::Mat mat;
        if (count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) {
            mat = decode_jpeg(bytes, count, max_pixels);
        } else if (count >= 8 && png_sig_cmp(bytes, 0, 8) == 0) {
            mat = decode_png(bytes, count, max_pixels);
        } else {
            last_error = "neither a JPEG nor a PNG (the formats EdgeCensus reads); convert it to one of them";
        }
        return wrap(std::move(mat));
    }, nullptr);
}

int ec_image_write(const ec_image *image, const char *path) {
    return guarded([&]() -> int {
        std::string name(path);
        bool jpeg = has_suffix(name, ".jpg") || has_suffix(name, ".jpeg");
        if (!jpeg && !has_suffix(name, ".png")) {
            last_error = "write .png, .jpg or .jpeg (the formats EdgeCensus writes)";
            return -1;
        }
        FILE *file = fopen(path, "wb");
        if (!file) {
            last_error = std::string("cannot write ") + path + ": " + strerror(errno);
            return -1;
        }
        // imgcodecs' default JPEG quality.
        bool written = jpeg ? encode_jpeg(image->mat, file, 95) : encode_png(image->mat, file);
        if (fclose(file) != 0 && written) {
            last_error = std::string("cannot write ") + path + ": " + strerror(errno);
            return -1;
        }
        return written ? 0 : -1;
    }, -1);
}

}  // extern "C"
