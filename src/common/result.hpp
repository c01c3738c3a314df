#pragma once
// Expected failures are values. Handlers return them; only the boundaries (the daemon's
// reply writer, the CLI's main) turn them into a wire error or an exit code.

#include <string>
#include <utility>
#include <variant>

namespace sbx {

/// Error kinds shared by the daemon and the CLI. The CLI maps each to an exit code
/// (cli/exit_codes.hpp); the wire carries the name (error_code_name).
enum class Errc {
  failed,       ///< the operation failed (exit 1)
  usage,        ///< bad input from the user (exit 2)
  not_found,    ///< no such process (exit 3)
  timeout,      ///< a wait ran out (exit 124)
  conflict,     ///< e.g. an id in use by a live process (exit 1)
  protocol,     ///< malformed or unsupported message (exit 1)
  unavailable,  ///< the daemon cannot be reached or started (exit 1)
  not_started,  ///< the process could not start: its record says error (exit 1; run: 127)
};

const char* error_code_name(Errc c);
Errc error_code_from_name(const std::string& name);

struct Error {
  Error() = default;
  Error(Errc c, std::string m, std::string process = {})
      : code(c), message(std::move(m)), id(std::move(process)) {}
  Errc code = Errc::failed;
  std::string message;
  std::string id;  ///< the process it is about, when the caller needs it (not_started)
};

inline Error make_error(Errc c, std::string msg) { return Error{c, std::move(msg)}; }

/// Either a T or an Error.
template <typename T>
class Result {
 public:
  Result(T v) : v_(std::move(v)) {}      // NOLINT: implicit by design
  Result(Error e) : v_(std::move(e)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

/// Result of an operation with no value.
struct Unit {};
using Status = Result<Unit>;
inline Status ok_status() { return Unit{}; }

}  // namespace sbx
