#pragma once
#include <functional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sbx {

/// Replaces `path` with `content` so that a reader sees either the old or the new file,
/// never a mix: write `path.tmp`, then exchange it with `path` (renameat2 RENAME_EXCHANGE;
/// a plain rename where `path` is new or the file system cannot), so `path.tmp` keeps the
/// previous version until the next write reuses it. With `durable`, also fsync the file
/// before the exchange and the folder after it, so the new content survives a power loss.
/// On any failure (a full disk, say) the previous file is left intact, the temp removed.
/// `make_spare(tmp)`, if given, may put a file at `path.tmp` where there is none yet (a
/// pool's), instead of its being created.
using MakeSpare = std::function<void(const std::string& tmp)>;
Status write_file_atomic(const std::string& path, std::string_view content, bool durable = true,
                         const MakeSpare& make_spare = {});
/// `path.tmp`: what write_file_atomic writes through, and where the previous version stays.
std::string atomic_spare_path(const std::string& path);

/// fsync(2) of the file at `path` (its content and inode as they are now); false if it
/// could not be opened or synced.
bool sync_file(const std::string& path);
/// fsync(2) of the folder that holds `path`: the names in it, as they are now.
bool sync_folder_of(const std::string& path);

/// Whole file into a string; the error says which file and why.
Result<std::string> read_file(const std::string& path);

}  // namespace sbx
