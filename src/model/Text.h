#pragma once

#include <string>
#include <string_view>

namespace ipctop {

// Process names, cmdlines and socket/FIFO paths are chosen by arbitrary (possibly hostile)
// processes, so they must pass through sanitize() before reaching a terminal or a report.

// Returns valid UTF-8 without C0 controls, DEL, C1 controls or bidi overrides. Each offending
// raw byte is rendered as the text `\xNN` (lowercase hex): ESC -> `\x1b`, a stray 0xff ->
// `\xff`, an encoded U+009B (C2 9B) -> `\xc2\x9b`. Bytes of invalid UTF-8 (overlong forms,
// surrogates, > U+10FFFF, truncated sequences) are rendered the same way, one per byte. Bidi
// embeddings/overrides/isolates (U+202A-202E, U+2066-2069) become the text `\u202e`. A literal
// backslash is kept as is. The output is always clean, so sanitize() is idempotent.
std::string sanitize(std::string_view raw);

// True when sanitize(text) == text; no allocation.
bool is_clean(std::string_view text);

// Terminal columns needed for `utf8` (meant for sanitized text): East Asian wide and emoji
// code points count 2, combining marks and zero-width characters 0, control characters 0,
// and each byte that is not valid UTF-8 counts 1.
int display_width(std::string_view utf8);

// Longest prefix of `utf8` whose display_width() is at most `width`; never splits a code point
// and never keeps half of a wide character. Combining marks stay with the character they
// follow. A width <= 0 gives an empty string.
std::string truncate_to_width(std::string_view utf8, int width);

}  // namespace ipctop
