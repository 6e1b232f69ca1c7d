require ["envelope", "fileinto"];
if envelope :all :is "from" "" {
  fileinto "Bounces";
} elsif envelope :domain :is "from" "example.org" {
  fileinto "From-Org";
} elsif envelope :localpart :matches "to" "bob+*" {
  fileinto "Tagged";
}
