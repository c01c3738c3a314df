#pragma once
// A fresh folder under /tmp for one test, removed with everything in it at the end.

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "doctest.hpp"

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/sbx-unit-XXXXXX";
    char* p = ::mkdtemp(tmpl);
    REQUIRE(p != nullptr);
    path = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};
