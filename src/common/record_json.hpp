#pragma once
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>

#include "common/record.hpp"

namespace sbx {

/// The record as JSON text, same keys as the TOML file; times are RFC 3339 strings. The one
/// writer of a record's JSON, byte for byte what boost::json::serialize writes of
/// record_to_json: replies of thousands of records are written without a value tree.
void append_record_json(std::string& out, const ProcessRecord& r);
std::string record_json_text(const ProcessRecord& r);
/// The same as a JSON object, its values allocated from `sp`.
boost::json::object record_to_json(const ProcessRecord& r, boost::json::storage_ptr sp = {});
Result<ProcessRecord> record_from_json(const boost::json::value& v);
/// The same into `r`, a default-constructed record (a vector's new element: no move).
Status record_from_json(const boost::json::value& v, ProcessRecord& r);

}  // namespace sbx
