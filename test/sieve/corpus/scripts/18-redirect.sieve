require "copy";
if header :contains "subject" "meeting" {
  redirect :copy "assistant@example.net";
}
if address :domain "from" "lists.example.com" {
  redirect "archive@example.net";
  redirect "archive@example.net";
}
