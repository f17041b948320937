// vCard (RFC 6350 / 2426) contacts -> contact records.
//
// Each BEGIN:VCARD..END:VCARD becomes a record: id "vcf:<UID>" (or "vcf:<hash of FN + first
// TEL/EMAIL>" without a UID), title = FN (or N assembled), text = one "TEL: ...", "EMAIL: ...",
// "ORG: ...", "TITLE: ...", "ADR: ...", "BDAY: ...", "NOTE: ..." line each, time = REV or else the
// file's modification time.
#pragma once

#include <string_view>

#include "store/record.h"

namespace pm::store {

ConvertResult parse_vcard(std::string_view text, const Timestamp& default_time);

}  // namespace pm::store
