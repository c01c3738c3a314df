#pragma once
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sbx {

/// Replaces `path` with `content` so that a reader sees either the old or the new file,
/// never a mix: write `path.tmp`, fsync, rename over `path`, fsync the folder. On any
/// failure (a full disk, say) the previous file is left intact and the temp file removed.
Status write_file_atomic(const std::string& path, std::string_view content);

/// Whole file into a string; the error says which file and why.
Result<std::string> read_file(const std::string& path);

}  // namespace sbx
