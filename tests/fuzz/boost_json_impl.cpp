// Boost.JSON compiled into the fuzz targets (instrumented, so the fuzzer sees its branches)
// instead of Debian's gcc-built static library.
#include <boost/json/src.hpp>
