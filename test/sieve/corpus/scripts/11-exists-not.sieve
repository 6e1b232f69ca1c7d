require "fileinto";
if not exists "list-id" {
  if exists ["from", "date", "message-id"] {
    fileinto "Personal";
  }
} else {
  fileinto "List";
}
if exists "x-does-not-exist" {
  discard;
}
