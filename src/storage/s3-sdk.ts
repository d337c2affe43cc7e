/**
 * The parts of the AWS SDK that imgproc uses, loaded together on first use: the build bundles
 * this module with only these (scripts/bundle.mjs), which loads in a fraction of the whole SDK's time.
 */
export {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
export { Upload } from '@aws-sdk/lib-storage';
