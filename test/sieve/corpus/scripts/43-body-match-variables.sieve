# RFC 5173 §6: the body test does not set match variables; the header test's stay.
require ["body", "variables", "fileinto"];
if header :matches "subject" "*" {
  set "s" "${1}";
}
if body :matches "*e*" {
  fileinto "m-${1}";
}
