// The one doctest include of the unit tests: Debian installs <doctest/doctest.h>, the wrap
// fallback (subprojects/doctest) exposes <doctest.h>.
#pragma once
#if __has_include(<doctest/doctest.h>)
#include <doctest/doctest.h>
#else
#include <doctest.h>
#endif
