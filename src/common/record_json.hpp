#pragma once
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/record.hpp"

namespace sbx {

/// The record as JSON, same keys as the TOML file; times are RFC 3339 strings. Its values
/// are allocated from `sp` (an arena, for a reply of thousands of records).
boost::json::object record_to_json(const ProcessRecord& r, boost::json::storage_ptr sp = {});
Result<ProcessRecord> record_from_json(const boost::json::value& v);
/// The same into `r`, a default-constructed record (a vector's new element: no move).
Status record_from_json(const boost::json::value& v, ProcessRecord& r);

}  // namespace sbx
