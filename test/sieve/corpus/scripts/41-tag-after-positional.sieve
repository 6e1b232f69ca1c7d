# RFC 5228 §2.6.2: tagged arguments come before positional ones; this script is refused.
require ["index", "date", "fileinto"];
if header :index 2 "received" :contains "laptop" {
  fileinto "Second-Hop";
}
if header :index 1 :last "received" :contains "laptop" {
  fileinto "Last-Hop";
}
if date :index 1 "received" "year" "2026" {
  fileinto "Received-2026";
}
