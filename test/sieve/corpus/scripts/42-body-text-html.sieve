# RFC 5173 :text: HTML parts are read as text (tags dropped, white space collapsed).
require ["body", "fileinto", "relational"];
if body :text :matches "Sch*ne Gr*, the report is attached." {
  fileinto "Html-As-Text";
}
if body :text :contains "<p>" {
  fileinto "Never-Tags";
}
if body :text :value "lt" :comparator "i;octet" "A" {
  fileinto "Starts-Below-A";
}
