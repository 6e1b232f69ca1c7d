require ["envelope", "subaddress", "fileinto", "variables"];
if envelope :detail :matches "to" "*" {
  fileinto "sub/${1}";
} elsif envelope :user :is "to" "bob" {
  fileinto "plain-bob";
}
