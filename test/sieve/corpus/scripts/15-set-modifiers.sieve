require ["variables", "fileinto"];
if header :matches "from" "*@*" {
  set :upper "who" "${1}";
  set :lowerfirst "dom" "${2}";
  set :length "len" "${0}";
  set :quotewildcard "q" "a*b?";
  fileinto "${who}.${len}.${q}";
}
