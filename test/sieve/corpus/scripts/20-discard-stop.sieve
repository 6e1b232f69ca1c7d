require "fileinto";
if header :is "auto-submitted" "auto-replied" {
  discard;
  stop;
}
fileinto "Everything";
stop;
fileinto "Never";
