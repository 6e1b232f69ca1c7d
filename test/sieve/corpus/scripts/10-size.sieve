require "fileinto";
if size :over 2K {
  fileinto "Big";
} elsif size :under 400 {
  fileinto "Small";
}
