require ["variables", "fileinto", "envelope"];
if envelope :matches "to" "*@*" {
  set "domain" "${2}";
}
if string :is "${domain}" "example.net" {
  fileinto "Net";
}
if string :count "eq" :comparator "i;ascii-numeric" ["${domain}", "", "x"] "2" {
  fileinto "Two";
}
