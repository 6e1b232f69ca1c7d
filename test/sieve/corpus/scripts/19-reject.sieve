require "reject";
if header :contains "subject" "backup" {
  reject "No backup reports here, please.";
}
