require "fileinto";
if header :is :comparator "i;octet" "subject" "meeting tomorrow" {
  fileinto "Exact-Lower";
}
if header :is :comparator "i;ascii-casemap" "subject" "MEETING TOMORROW" {
  fileinto "Casemap";
}
