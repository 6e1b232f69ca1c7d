require ["imap4flags", "fileinto"];
setflag "\\Seen";
addflag ["$Work", "\\Flagged"];
removeflag "\\Seen";
if hasflag :contains "work" {
  fileinto "Flagged";
}
if header :contains "subject" "backup" {
  fileinto :flags "\\Deleted \\Seen" "Backups";
}
