require ["fileinto", "imap4flags"];
if header :contains "list-id" "acme" {
  fileinto :flags "\\Seen" "Lists/acme";
} elsif size :over 3K {
  addflag "\\Flagged";
} elsif header :matches "subject" "*Returned*" {
  fileinto "Bounces";
} else {
  keep :flags "$Personal";
}
