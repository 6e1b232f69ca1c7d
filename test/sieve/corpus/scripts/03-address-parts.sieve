require "fileinto";
if address :domain :is "from" "example.org" {
  fileinto "Org";
} elsif address :localpart :is "from" "mailer-daemon" {
  discard;
} elsif address :all :contains ["to", "cc"] "acme-users@" {
  fileinto "Lists";
} else {
  keep;
}
