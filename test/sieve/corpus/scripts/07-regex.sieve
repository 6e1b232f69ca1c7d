require ["regex", "variables", "fileinto"];
if header :regex "subject" "^\\[([a-z-]+)\\] \\[fwd\\] (.*)$" {
  fileinto "re.${1}";
}
if address :regex :domain "from" "^example\\.(org|de)$" {
  fileinto "re-domain.${1}";
}
