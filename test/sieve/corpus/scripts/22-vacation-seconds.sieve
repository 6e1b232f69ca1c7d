require ["vacation-seconds", "fileinto"];
if header :contains "subject" "meeting" {
  vacation :seconds 3600 "Back in an hour.";
}
fileinto "Seen";
