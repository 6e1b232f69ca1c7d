# RFC 5229 §3.2 example: the list name in brackets at the start of the subject.
require ["fileinto", "variables"];
if header :matches "List-ID" "*<?*>*" {
  fileinto "list.${3}";
} elsif header :matches "Subject" "[*] *" {
  fileinto "lists.${1}";
}
