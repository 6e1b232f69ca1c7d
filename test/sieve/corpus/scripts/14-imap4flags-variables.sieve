require ["imap4flags", "fileinto", "variables"];
set "labels" "";
addflag "labels" "$Label1";
if header :contains "subject" "meeting" {
  addflag "labels" ["$Label2", "$label1"];
}
if hasflag "labels" "$Label2" {
  fileinto :flags "${labels}" "Labelled";
} else {
  fileinto :flags "${labels}" "Single";
}
